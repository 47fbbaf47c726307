from wopi_frontend.cli import main

main()
