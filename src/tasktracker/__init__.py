"""TaskTracker data layer."""
