"""What runs and how it is judged, one folder per area and one module per tool: each module builds `Step`s (image,
argv, env, caches, services, report files) and judges their runs purely. Stages import only core and config."""
