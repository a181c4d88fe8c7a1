"""``python -m cd38``: the cd38 command line."""

from cd38.cli import main

if __name__ == "__main__":
    main(prog_name="cd38")
