"""Reports (研判): summary figures, daily, weekly and monthly lists, their files and charts."""
