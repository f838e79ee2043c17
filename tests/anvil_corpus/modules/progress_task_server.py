# Written for py.space after the pattern of Anvil's background-task documentation
# (anvil.works/docs/background-tasks: "Defining and Running", "Communicating with Background
# Tasks"): a callable launches a task and returns its Task to the client, the task reports
# progress in anvil.server.task_state, and the client polls the Task until it completes.
# It uses only Anvil's documented API, so it runs unchanged on Anvil too.
import time

import anvil.server


@anvil.server.background_task
def count_slowly(steps):
  total = 0
  for i in range(steps):
    time.sleep(0.05)
    total += i
    anvil.server.task_state['progress'] = int((i + 1) * 100 / steps)
  return {'total': total, 'steps': steps}


@anvil.server.background_task
def refuse(reason):
  raise ValueError(reason)


@anvil.server.callable
def launch_counting(steps):
  task = anvil.server.launch_background_task('count_slowly', steps)
  return task


@anvil.server.callable
def launch_refusal(reason):
  return anvil.server.launch_background_task('refuse', reason)
