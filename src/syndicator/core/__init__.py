"""The pure core: text in, values out. No disk, clock, environment, processes, threads or module-level caches."""
