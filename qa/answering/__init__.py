"""Answering a question: understand it (`question`), find evidence (`retrieve`), make and score
candidate phrases (`candidates`, `rank`), decide to answer, quote or abstain (`decide`), and turn
the decision into a cited `Answer` (`cite`). `assistant` runs the steps in that order."""
