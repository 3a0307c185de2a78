"""The two staff roles, as Django groups (created by migration 0003)."""

INSTRUCTOR = "Instructor"
RESEARCHER = "Researcher"
