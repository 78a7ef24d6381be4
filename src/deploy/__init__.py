"""Operating the deployment: the private nginx, the phase switch, the foreground supervisor.

No web framework is imported here: the doors run as separate processes started by module name.
"""
