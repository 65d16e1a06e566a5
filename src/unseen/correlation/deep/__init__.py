"""The deep pass: heavy per-image analysers (faces, text, sensor noise, scenes) run
after the fast pass, best leads first, so the first leads are ready early."""
