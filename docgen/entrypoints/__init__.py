"""Entry points: the command line and the scheduler process (the web application will be the third)."""
