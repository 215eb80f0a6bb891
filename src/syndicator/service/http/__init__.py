"""The served side: one route table, the handlers it names, and the one conditional answer they all give."""
