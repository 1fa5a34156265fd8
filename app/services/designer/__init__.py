"""The designer's work: validating and deploying definitions, their files and diagrams, comparisons."""
