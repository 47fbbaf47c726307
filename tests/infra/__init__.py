"""Real services that tests start for themselves on free loopback ports, and stop by PID at the end."""
