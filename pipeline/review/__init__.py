"""Review: the queue of applications waiting for a person, their due dates, the two stages
(核验, 复核) decided under dual control, and the review packet."""
