"""Training off the GUI thread: one controller, one worker thread."""
