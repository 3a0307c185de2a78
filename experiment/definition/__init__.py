"""Experiment definition files: validate, load, and dump a whole experiment as one JSON document.

Validation reads the whole file and reports every problem with its place (``scenario.threats[3].stride``);
loading writes nothing unless the whole file is valid, and never replaces an experiment that has participants.
Callers use this package's names; the modules divide the work: ``validate`` (the format and its checks), ``load``,
``dump``, ``translations`` (several languages in one file), and ``versions`` with ``examples`` (what a definition
of an older schema version gets).
"""

from experiment.definition.dump import dump
from experiment.definition.load import load, warnings
from experiment.definition.validate import SCHEMA_VERSION, DefinitionError, parse, read_file, validate

__all__ = ["SCHEMA_VERSION", "DefinitionError", "dump", "load", "parse", "read_file", "validate", "warnings"]
