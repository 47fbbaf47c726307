"""The WOPI front-end: the only way WOPI clients reach storage. It keeps no file state."""
