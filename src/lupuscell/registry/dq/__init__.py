"""Data-quality rules as data: hard rules refuse a save, soft rules save and raise a query.

* :mod:`.rules` - the rule schema and loader (``data/dq_rules.yaml``);
* :mod:`.expression` - the expression language (SQLGlot), evaluated in Python and compiled to SQL;
* :mod:`.check` - one record (the repository's save hook);
* :mod:`.batch` - the whole registry or one import batch in SQL (``lupuscell dq run``, bulk import).

Documentation: ``docs/data_management/rules.md``.
"""
