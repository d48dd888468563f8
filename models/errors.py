"""One ancestor for every refusal the domain gives a person, so each edge can show them
the message and change nothing, without knowing every kind of refusal."""


class Refused(Exception):
    """A step refused: bad input, a wrong role, an illegal state. The message says why."""
