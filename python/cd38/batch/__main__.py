"""``python -m cd38.batch``: the ``cd38 batch`` command on its own."""

from cd38.cli.batch_cmd import batch

if __name__ == "__main__":
    batch(prog_name="python -m cd38.batch")
