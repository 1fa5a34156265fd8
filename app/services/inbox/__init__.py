"""The inbox: listing, opening, claiming, handing over and completing human tasks."""
