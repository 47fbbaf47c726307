from storage_adapter.cli import main

main()
