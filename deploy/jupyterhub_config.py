"""JupyterHub configuration of the multiclass-digits course (docs/hub.md).

Real Unix accounts log in through PAM; each one's JupyterLab is a local process run as that
account (LocalProcessSpawner). Who may log in, and with which role, comes from two Unix
groups that ``deploy/roster.py`` fills: members of the instructors' group get the Formgrader,
members of the students' group the Assignment List and Validate only. The roles travel as
JupyterHub groups (the authenticator manages them) and pick, per account, the Jupyter config
folder the server starts with (``roles/<role>`` of the course environment, on
``JUPYTER_CONFIG_PATH``).

Settings (environment variables, read when the hub starts; ``make hub`` passes them):
COURSE_HUB_IP (127.0.0.1), COURSE_HUB_PORT (8000), COURSE_HUB_API_PORT (8081, the hub's own
API on 127.0.0.1), COURSE_PROXY_API_PORT (8001, the proxy's REST API on 127.0.0.1),
COURSE_HOME (/opt/multiclass-digits, the course environment), COURSE_HUB_STATE
(/srv/jupyterhub: database, cookie secret, proxy token; root only).
"""
from __future__ import annotations

import grp
import os
import pwd
from pathlib import Path

c = get_config()  # noqa: F821  (provided by traitlets when JupyterHub loads this file)

HOME = Path(os.environ.get("COURSE_HOME", "/opt/multiclass-digits"))
STATE = Path(os.environ.get("COURSE_HUB_STATE", "/srv/jupyterhub"))
# Unix group -> JupyterHub group (= role); deploy/roster.py creates the Unix groups
ROLE_GROUPS = {
    "multiclass-digits-instructors": "instructors",
    "multiclass-digits-students": "students",
}
ROLE_DIRS = {"instructors": HOME / "roles" / "instructor", "students": HOME / "roles" / "student"}

# ---- network: the public address, everything else on loopback
c.JupyterHub.ip = os.environ.get("COURSE_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("COURSE_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("COURSE_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{int(os.environ.get('COURSE_PROXY_API_PORT', '8001'))}"
c.ConfigurableHTTPProxy.command = [str(HOME / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.auth_token = (STATE / "proxy_token").read_text().strip()
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")

# ---- the hub's own state: root only (tools/start_hub.sh makes the folder 0700)
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")

# ---- who logs in: PAM, members of the course's two Unix groups only
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = set(ROLE_GROUPS)
c.Authenticator.manage_groups = True  # the JupyterHub groups below follow the Unix groups


def unix_roles(username: str) -> list[str]:
    """The JupyterHub groups (roles) of a Unix account, from its course Unix groups."""
    entry = pwd.getpwnam(username)
    gids = set(os.getgrouplist(username, entry.pw_gid))
    return sorted(role for unix, role in ROLE_GROUPS.items() if grp.getgrnam(unix).gr_gid in gids)


def set_groups(authenticator, handler, authentication: dict) -> dict:
    """post_auth_hook: the user's JupyterHub groups are their course roles."""
    authentication["groups"] = unix_roles(authentication["name"])
    return authentication


c.Authenticator.post_auth_hook = set_groups

# ---- each account's JupyterLab: a local process as that account, its role's config folder
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = [str(HOME / "env" / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 180  # a busy 2-core server imports JupyterLab slowly
c.Spawner.http_timeout = 180
c.Spawner.environment = {"PATH": f"{HOME / 'env' / 'bin'}:/usr/local/bin:/usr/bin:/bin"}


def role_config(spawner) -> None:
    """pre_spawn_hook: put the role's Jupyter config folder on the server's config path; an
    account in neither course group (or in both) is refused."""
    roles = [g.name for g in spawner.user.groups if g.name in ROLE_DIRS]
    if len(roles) != 1:
        raise ValueError(f"{spawner.user.name} has course roles {roles}: exactly one of "
                         f"{sorted(ROLE_DIRS)} is needed (deploy/roster.py sets it)")
    spawner.environment = {**spawner.environment, "JUPYTER_CONFIG_PATH": str(ROLE_DIRS[roles[0]])}


c.Spawner.pre_spawn_hook = role_config

# ---- Submit for grading: the grading service (python -m grading.service), started and restarted
# by the hub, as root (the sandbox's cgroups), on loopback. Students reach it through their own
# server (grading.service.student_server), which calls it with the server's token: the token
# may use the service (the role below), the service asks the hub whose it is.
GRADER_URL = f"http://127.0.0.1:{int(os.environ.get('COURSE_GRADER_PORT', '8082'))}"
GRADER_SETTINGS = (  # the course's rules and the grader's settings (docs/hub.md), passed on as set
    "COURSE_EXCHANGE", "COURSE_DB", "COURSE_SUBMIT_COUNTING", "COURSE_SUBMIT_LIMIT", "COURSE_SUBMIT_DEADLINE",
    "COURSE_SUBMIT_MAX_MB", "COURSE_SUBMIT_TIMEOUT", "COURSE_SUBMIT_CELL_TIMEOUT", "COURSE_SUBMIT_SKIP_TAIL",
    "COURSE_GRADER_WORKERS", "COURSE_GRADER_SCHEDULER", "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES",
)
c.JupyterHub.services = [
    {
        "name": "grader",
        "url": GRADER_URL,
        # -P: no working folder on the module path; the working folder is the hub's own (root only)
        "command": [str(HOME / "env" / "bin" / "python"), "-P", "-m", "grading.service"],
        "cwd": str(STATE),
        "environment": {
            "PATH": f"{HOME / 'env' / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": "/root",
            "COURSE_GRADER_STATE": str(STATE / "grader"),
            "COURSE_HOME": str(HOME),
            **{name: os.environ[name] for name in GRADER_SETTINGS if name in os.environ},
        },
        "display": False,
    }
]
c.JupyterHub.load_roles = [
    {"name": "course-submit", "description": "Submit for grading", "groups": ["students"],
     "scopes": ["access:services!service=grader"]},
]
# the server's own token ($JUPYTERHUB_API_TOKEN) gets the grader's scope where its user has it
c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server", "access:services!service=grader"]
c.Spawner.environment["COURSE_GRADER_URL"] = f"{GRADER_URL}/services/grader/"
