"""The one loop every kind runs through: ask, skip what the store has, execute, store, tell.

:func:`drive` is ``adaptive``'s runner loop for qpcsim's kinds (:mod:`.kind`): the
kind proposes a batch of tasks, the store answers the ones it has (keyed by
:meth:`Kind.key`), the executor computes the others (each committed as it
finishes), and the kind is told the batch's records in its order. A kind whose
batches depend on earlier records (``replay``) has each batch's keys logged, and
a resume replays the logged batches before asking new ones, so the final point
set is the one an uninterrupted run produces.
"""
from __future__ import annotations

__all__ = ["drive"]


def _check_replay(kind, stored, logged, number, keys):
    """Log a new batch, or check that a replayed one is the one logged."""
    if not kind.replay:
        return
    if number < len(logged):
        if keys != logged[number]:
            raise ValueError("the store's adaptive history does not replay with this "
                             "version of adaptive; delete the store to start over")
    else:
        stored.log_batch(keys)


def drive(kind, executor, recipe, stored, progress, eta=None) -> None:
    """Run every batch ``kind`` asks on ``executor``, through ``stored``.

    Parameters
    ----------
    kind : Kind
        What to compute (:mod:`.kind`).
    executor : Executor
        Where (:mod:`.executors`).
    recipe : DeviceRecipe or None
        The device the workers rebuild (None for a function executor).
    stored : Store or NoStore
        Finished records, keyed by ``kind.key(task)``.
    progress : Progress
        Told of points taken from the store and computed.
    eta : Eta, optional
        Told of computed points (reports a long run's ETA once).
    """
    done = stored.results()
    logged = stored.batches() if kind.replay else []
    number = 0
    while (tasks := kind.ask(number < len(logged))) is not None:
        keys = [kind.key(task) for task in tasks]
        _check_replay(kind, stored, logged, number, keys)
        todo = [i for i, key in enumerate(keys) if key not in done]
        todo.sort(key=lambda i: kind.order(tasks[i]))
        progress.from_store(len(tasks) - len(todo))
        for index, record in executor.imap_unordered(kind.worker, recipe,
                                                     [tasks[i] for i in todo]):
            key = keys[todo[index]]
            stored.put(key, record)
            done[key] = record
            progress.update(1)
            if eta is not None:
                eta.tick()
        kind.tell(tasks, [done[key] for key in keys])
        number += 1
