// infc: the command-line driver (argv, file IO, exit codes).
print("infc")
