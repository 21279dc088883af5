"""The attack harness for issue 13 (`make attack`); see __main__."""
