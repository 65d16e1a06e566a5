"""The ``unseen`` command line: thin commands over library functions."""
