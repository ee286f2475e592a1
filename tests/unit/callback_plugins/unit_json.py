# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A test-only stdout callback: the whole run as one JSON document.

The unit tests drive the modules through ``ansible``/``ansible-playbook`` and
read the results as JSON. ansible-core ships no JSON stdout callback (the
``json`` one lives in ansible.posix), and the tests must need no collection
beyond requirements.yml, so they bring this one (tests/unit/ansible_env.py puts
it on ANSIBLE_CALLBACK_PLUGINS). Same shape as ansible.posix.json:
``{"plays": [{"play": {...}, "tasks": [{"task": {...}, "hosts": {host: result}}]}],
"stats": {host: summary}}``; a failed, skipped or unreachable result carries
``failed``/``skipped``/``unreachable: true``, and so does each item of a loop
(ansible-core 2.20+ no longer keeps ``failed`` in the items it hands to
callbacks: the item events say it, in the items' order).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: unit_json
type: stdout
short_description: the run as one JSON document (test-only)
description:
  - Test-only stdout callback of the unit tests, shaped like ansible.posix.json.
"""

import json

from ansible.parsing.ajson import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase


def _part(result, name):
    """A result's dict, host or task, on every supported ansible-core (2.19
    passes a CallbackTaskResult with public attributes, older ones a
    TaskResult with private ones)."""
    value = getattr(result, name, None)
    if value is None or (name == "result" and not isinstance(value, dict)):
        value = getattr(result, "_" + name)
    return value


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "unit_json"

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display)
        self.results = []
        self._items = {}  # host -> ["ok" | "failed" | "skipped", ...] of the running loop

    def v2_playbook_on_play_start(self, play):
        self.results.append({"play": {"name": play.get_name(), "id": str(play._uuid)}, "tasks": []})

    def _task_start(self, task):
        if not self.results:  # ad-hoc commands have no play start event
            self.results.append({"play": {"name": "adhoc", "id": ""}, "tasks": []})
        self.results[-1]["tasks"].append({"task": {"name": task.get_name(), "id": str(task._uuid)}, "hosts": {}})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task_start(task)

    def _record(self, result, **flags):
        host = _part(result, "host")
        task = _part(result, "task")
        if not self.results or not self.results[-1]["tasks"]:
            self._task_start(task)
        host_result = dict(_part(result, "result"))
        host_result.update(flags)
        host_result["action"] = task.action
        outcomes = self._items.pop(host.get_name(), [])
        items = host_result.get("results")
        if isinstance(items, list) and len(items) == len(outcomes):
            host_result["results"] = [dict(item, **({outcome: True} if outcome != "ok" else {}))
                                      if isinstance(item, dict) else item
                                      for item, outcome in zip(items, outcomes)]
        self.results[-1]["tasks"][-1]["hosts"][host.get_name()] = host_result

    def _item(self, result, outcome):
        self._items.setdefault(_part(result, "host").get_name(), []).append(outcome)

    def v2_runner_item_on_ok(self, result):
        self._item(result, "ok")

    def v2_runner_item_on_failed(self, result):
        self._item(result, "failed")

    def v2_runner_item_on_skipped(self, result):
        self._item(result, "skipped")

    def v2_runner_on_ok(self, result, **kwargs):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False, **kwargs):
        self._record(result, failed=True)

    def v2_runner_on_skipped(self, result, **kwargs):
        self._record(result, skipped=True)

    def v2_runner_on_unreachable(self, result, **kwargs):
        self._record(result, unreachable=True)

    def v2_playbook_on_stats(self, stats):
        summary = {h: stats.summarize(h) for h in sorted(stats.processed.keys())}
        self._display.display(json.dumps({"plays": self.results, "stats": summary},
                                         cls=AnsibleJSONEncoder, indent=2, sort_keys=True))
