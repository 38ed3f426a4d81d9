"""The run machinery behind ``pipeline.api`` (the public face: validate, plan, sync).

One module a job: ``load`` (the first pass: the file read, mapped, checked and deduped
piece by piece), ``planning`` (the remote set read while the file is checked, then the
diff, piece by piece), ``pushing`` (the plan journaled, then pushed piece by piece),
``finish`` (the summary, the files committed, the ``RunResult``), ``target`` (the adapter
opened with its key), and what they share: ``ahead`` (read-ahead and checking ahead in
threads), ``spool`` (pieces parked in memory up to a budget, then on disk), ``outputs``
(the report and rejects written as the pieces settle), ``remote`` (the remote set read
in a thread).

Nothing is imported here: ``pipeline.result`` needs ``run.spool`` without the rest.
"""
