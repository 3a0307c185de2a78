"""The writes of the experiment app, by job: a participant's way through the lab (``participation``), the arm a
participant gets (``allocation``), and the lab sessions instructors run (``sessions``)."""
