"""The kernel every domain stands on: process instances and their projection into inbox rows, case rows and
timers; the timer service and the escalation ladder; definition look-ups; the audit log; who may do what
(policy); the shapes handed to the web. It imports no domain."""
