from qa.cli.app import main

main()
