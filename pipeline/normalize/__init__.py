"""Normalize: the values of the contact frame made canonical, column by column, in batch.

- ``phones``: phone numbers to E.164 (``normalize_phones``), with ``phones_fast``, the
  vectorized fast path that agrees with phonenumbers or defers to it, one module per step;
- ``country``: country cells (codes or names) to ISO alpha-2, the region a phone is read with;
- ``fields``: the other fields: text cleaned before the checks, typed for the targets after;
- ``calling``: the number type and time zones of valid numbers, in batch; ``screening``
  turns them into the records' ``number_type``, ``timezone`` (filled with
  ``--fill-timezone``) and ``timezone_source``, and into ``--reject-types`` problems.

``pipeline.validate`` runs them as it checks each record.
"""
