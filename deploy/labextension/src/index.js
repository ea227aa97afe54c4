// "Submit for grading" in every notebook's toolbar (and the command course-grader:submit in the
// command palette), on the course's JupyterHub, for students (the instructors' page_config.json
// disables this extension). The notebook is saved through its document context first, so what is
// graded is what the student sees; the student's own server then hands the saved file to the
// course's grading service (grading/service/student_server.py, under {base}course-grader/), and
// the dialog follows the submission until it is graded.
//
// Stable selectors: the toolbar button .jp-CourseGrader-submit; the dialog's body
// .jp-CourseGrader-result (its data-state: saving, queued, grading, graded, error, failed); one
// row per exercise .jp-CourseGrader-exercise; the total .jp-CourseGrader-total; the service's
// message .jp-CourseGrader-message; whether it counts .jp-CourseGrader-counted; the feedback link
// .jp-CourseGrader-feedback; an error sentence .jp-CourseGrader-error.

import { Dialog, ICommandPalette, ToolbarButton } from '@jupyterlab/apputils';
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';

const COMMAND = 'course-grader:submit';
const POLL_MS = 1000;
const DONE = new Set(['graded', 'error']);

/** A refusal or failure to show the student: one sentence, and when to try again if known. */
class GraderError extends Error {
  constructor(sentence, retryAfter) {
    super(sentence);
    this.retryAfter = retryAfter || null;
  }
}

/** JSON from the student's server under course-grader/ (XSRF and auth as JupyterLab's own calls). */
async function request(settings, path, init = {}) {
  const url = URLExt.join(settings.baseUrl, 'course-grader', path);
  let response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (err) {
    throw new GraderError('Your JupyterLab server cannot be reached: check your connection and try again.');
  }
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    data = null;
  }
  if (!response.ok) {
    const sentence = data && (data.error || data.message);
    throw new GraderError(sentence || `The request failed (HTTP ${response.status}).`, data && data.retry_after);
  }
  return data;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function points(x) {
  return x === null || x === undefined ? '–' : String(Math.round(Number(x) * 100) / 100);
}

function clock(iso) {
  const when = new Date(iso);
  return isNaN(when) ? iso : when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

function localTime(iso) {
  const when = new Date(iso);
  return isNaN(when)
    ? iso
    : when.toLocaleString([], { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hour12: false });
}

/** The dialog's body: one state at a time. */
class ResultView {
  constructor() {
    this.widget = new Widget();
    this.widget.addClass('jp-CourseGrader-result');
  }

  show(state, ...nodes) {
    const node = this.widget.node;
    node.dataset.state = state;
    node.replaceChildren(...nodes);
  }

  progress(state, text) {
    this.show(state, el('p', 'jp-CourseGrader-progress', text));
  }

  queued(sub) {
    let where = 'grading…';
    if (sub.status === 'queued') {
      const ahead = sub.position || 0;
      where = ahead > 0 ? `queued, ${ahead} ahead in the queue` : 'queued, next in the queue';
    }
    this.progress(sub.status, `Submitted at ${clock(sub.submitted)} (server time) — ${where}`);
  }

  failed(err) {
    const nodes = [el('p', 'jp-CourseGrader-error', err.message)];
    if (err.retryAfter) {
      nodes.push(el('p', 'jp-CourseGrader-retry', `You can submit again from ${localTime(err.retryAfter)} (your local time).`));
    }
    this.show('failed', ...nodes);
  }

  result(sub, counting, feedbackUrl) {
    const nodes = [el('p', 'jp-CourseGrader-progress', `${sub.notebook}, submitted at ${clock(sub.submitted)} (server time)`)];
    const exercises = sub.exercises || [];
    if (exercises.length > 0 || sub.status === 'graded') {
      const table = el('table', 'jp-CourseGrader-table');
      const head = el('tr');
      head.append(el('th', '', 'Exercise'), el('th', '', 'Score'));
      table.append(head);
      for (const ex of exercises) {
        const row = el('tr', 'jp-CourseGrader-exercise');
        row.dataset.exercise = ex.id;
        const name = el('td', 'jp-CourseGrader-name', ex.name || ex.id);
        if (ex.messages) {
          name.append(el('pre', 'jp-CourseGrader-messages', ex.messages));
        }
        row.append(name, el('td', 'jp-CourseGrader-score', `${points(ex.score)} / ${points(ex.max_score)}`));
        table.append(row);
      }
      const total = el('tr', 'jp-CourseGrader-totalRow');
      total.append(el('th', '', 'Total'), el('th', 'jp-CourseGrader-total', `${points(sub.score)} / ${points(sub.max_score)}`));
      table.append(total);
      nodes.push(table);
    }
    if (sub.message) {
      nodes.push(el('p', sub.status === 'error' ? 'jp-CourseGrader-error' : 'jp-CourseGrader-message', sub.message));
    }
    if (sub.status === 'graded') {
      const which = counting ? `your ${counting} submission counts` : 'one submission counts';
      const counts = sub.counted ? `This submission counts for your grade (${which}).` : `This submission does not count for your grade (${which}).`;
      nodes.push(el('p', 'jp-CourseGrader-counted', counts));
    }
    if (sub.feedback) {
      const link = el('a', 'jp-CourseGrader-feedback', 'Open the feedback page');
      link.href = feedbackUrl;
      link.target = '_blank';
      link.rel = 'noopener noreferrer';
      const line = el('p');
      line.append(link);
      nodes.push(line);
    }
    this.show(sub.status, ...nodes);
  }
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/** Save the panel's notebook, hand it in, and follow it in a dialog until it is graded. */
async function submit(panel, settings, busy) {
  if (busy.has(panel)) {
    return;
  }
  busy.add(panel);
  const context = panel.context;
  const view = new ResultView();
  const dialog = new Dialog({
    title: 'Submit for grading',
    body: view.widget,
    buttons: [Dialog.okButton({ label: 'Close' })]
  });
  let open = true;
  dialog.launch().then(() => {
    open = false;
  });
  try {
    view.progress('saving', `Saving ${context.path}…`);
    try {
      await context.save();
    } catch (err) {
      throw new GraderError(`${context.path} could not be saved, so it was not submitted: ${err.message || err}`);
    }
    view.progress('saving', `Submitting ${context.path}…`);
    let sub = await request(settings, 'submit', { method: 'POST', body: JSON.stringify({ path: context.path }) });
    while (open && !DONE.has(sub.status)) {
      view.queued(sub);
      await sleep(POLL_MS);
      if (open) {
        sub = await request(settings, `submissions/${encodeURIComponent(sub.id)}`);
      }
    }
    if (open) {
      let counting = null;
      try {
        counting = (await request(settings, 'submissions')).counting || null;
      } catch (err) {
        counting = null;
      }
      const feedbackUrl = URLExt.join(settings.baseUrl, 'course-grader', 'submissions', encodeURIComponent(sub.id), 'feedback');
      view.result(sub, counting, feedbackUrl);
    }
  } catch (err) {
    view.failed(err instanceof GraderError ? err : new GraderError(String((err && err.message) || err)));
  } finally {
    busy.delete(panel);
  }
}

const plugin = {
  id: '@multiclass-digits/submit:plugin',
  description: "The course hub's Submit for grading button in the notebook toolbar.",
  autoStart: true,
  optional: [ICommandPalette],
  activate: (app, palette) => {
    const settings = app.serviceManager.serverSettings;
    const panels = new Set();
    const busy = new WeakSet();
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: panel => {
        const button = new ToolbarButton({
          className: 'jp-CourseGrader-submit',
          label: 'Submit for grading',
          tooltip: 'Save this notebook and hand it in to the course grader',
          onClick: () => void submit(panel, settings, busy)
        });
        panel.toolbar.insertItem(10, 'courseGraderSubmit', button);
        panels.add(panel);
        panel.disposed.connect(() => panels.delete(panel));
        return button;
      }
    });
    const current = () => (panels.has(app.shell.currentWidget) ? app.shell.currentWidget : null);
    app.commands.addCommand(COMMAND, {
      label: 'Submit Notebook for Grading',
      caption: 'Save the current notebook and hand it in to the course grader',
      isEnabled: () => current() !== null,
      execute: () => {
        const panel = current();
        return panel ? submit(panel, settings, busy) : undefined;
      }
    });
    if (palette) {
      palette.addItem({ command: COMMAND, category: 'Course' });
    }
  }
};

export default plugin;
