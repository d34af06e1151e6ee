# Put on sys.path to make `import yaml` fail, as in an image without PyYAML.
raise ImportError("PyYAML is hidden for this test")
