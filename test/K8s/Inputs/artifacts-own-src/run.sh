echo own > outputs/o.txt
echo mine > logs/mine.txt
