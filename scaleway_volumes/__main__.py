"""``python -m scaleway_volumes``: the ``scaleway-volumes`` command line."""

from .cli import main

if __name__ == "__main__":
    main()
