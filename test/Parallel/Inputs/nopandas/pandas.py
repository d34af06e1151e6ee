# Put on PYTHONPATH to make `import pandas` fail, as on a machine without it.
raise ImportError("pandas is hidden for this test")
