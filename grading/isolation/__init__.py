"""What keeps a student's kernel from the grader and from other students: the bubblewrap
sandbox, cgroup limits, the removal of what a submission left, the kernel-side guard and the
integrity of the installed course packages."""
