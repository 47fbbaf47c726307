"""The wopi.storage.v1 contract suite: run it against any adapter with `--storage-target HOST:PORT`."""
