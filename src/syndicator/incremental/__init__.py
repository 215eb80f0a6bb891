"""Doing less and doing it in parallel: caches around the core's steps, the change decider, gzip and forking.

The core never imports this wing; the builder owns every cache here as an object.
"""
