"""Multi-process training: `alignlab launch` (accelerate launch with checks first) and what runs inside.

- `plan`: check a launcher config (configs/accelerate/*.yaml) against the machine and the training command,
  build the `accelerate launch` command line. Runs before any process starts.
- `runner`: the launcher process (accelerate's launch command, ending with the failed worker's exit code instead
  of a ChildFailedError traceback).
- `entry`: the module every launched process runs (the alignlab CLI; stdout from rank 0 only).
- `failures`: how a user error in any process reaches the user as one line, printed once.
- `topology`: inside a process, its rank and world size from the launcher's environment, and the barriers
  alignlab itself needs (rank 0 writes run directories and caches, the others wait and read).
"""
