"""All-reduces each rank's number over gloo; rank 0 writes the sum."""
import os

import torch
import torch.distributed as dist

dist.init_process_group("gloo", init_method="env://")
rank, world = dist.get_rank(), dist.get_world_size()
assert rank == int(os.environ["RANK"]), (rank, os.environ["RANK"])
t = torch.tensor([float(rank + 1)])
dist.all_reduce(t)
want = world * (world + 1) / 2
assert t.item() == want, (t.item(), want)
print(f"rank {rank} of {world}: sum {t.item():g} (master {os.environ['MASTER_ADDR']})")
if rank == 0:
    with open(os.path.join(os.environ["PAI_OUTPUT_RESULT"], "sum.txt"), "w") as f:
        f.write(f"{t.item():g}\n")
dist.destroy_process_group()
