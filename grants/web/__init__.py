"""The office: the web application where each person does their own part (`grants serve`)."""
