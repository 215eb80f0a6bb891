"""The running program: the builder, the served snapshot, the web app, the schedule, the watcher and the hub."""
