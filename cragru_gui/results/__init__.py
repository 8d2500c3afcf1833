"""A run's figures: the Verdict cards, the Results table and notes, two runs compared, and the summary over several
seeds."""
