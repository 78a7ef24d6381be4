"""The API benchmark (issue 6): both doors behind nginx on one seeded database, measured with wrk."""
