from pgwatch_gui.cli import console_main

console_main()
