# Recomputes the tests of ThreatLab's analysis from this package's CSV files with base R only, and prints each
# beside the value ThreatLab reported (expected.csv). Run it in the unzipped folder:
#   Rscript replicate.R
# Each line ends in "ok" or "MISMATCH"; the script exits with status 1 if any line mismatches.

participants <- read.csv("participants.csv", stringsAsFactors = FALSE, na.strings = "")
answers <- read.csv("answers.csv", stringsAsFactors = FALSE, na.strings = "")
expected <- read.csv("expected.csv", stringsAsFactors = FALSE, na.strings = "")
mismatches <- 0
r_p <- c()  # R's own p of each outcome's test, for p.adjust

same <- function(a, b) {
  if (is.na(a) && is.na(b)) return(TRUE)
  if (is.na(a) || is.na(b)) return(FALSE)
  abs(a - b) <= 1e-6 * max(1, abs(b))
}

report <- function(what, statistic, p, row) {
  ok <- same(statistic, row$statistic) && same(p, row$p)
  if (!ok) mismatches <<- mismatches + 1
  cat(sprintf("%-60s R: %-12s p = %-12s ThreatLab: %-12s p = %-12s %s\n", what,
              format(signif(statistic, 7)), format(signif(p, 7)),
              format(signif(row$statistic, 7)), format(signif(row$p, 7)), if (ok) "ok" else "MISMATCH"))
}

values <- function(outcome, arm) participants[[outcome]][participants$arm == arm]

stratum_of <- function(by_session) {
  label <- ifelse(is.na(participants$stratum), "", participants$stratum)
  if (by_session) label <- paste(label, participants$session, sep = " / ")
  ifelse(label == "", "(none)", label)
}

# Van Elteren's statistic from its formula: rank sums within strata, weights 1 / (n_s + 1).
van_elteren <- function(outcome, first, second, alternative, by_session) {
  strata <- stratum_of(by_session)
  t <- 0; e <- 0; v <- 0
  for (s in unique(strata)) {
    x <- participants[[outcome]][participants$arm == first & strata == s]
    y <- participants[[outcome]][participants$arm == second & strata == s]
    x <- x[!is.na(x)]; y <- y[!is.na(y)]
    nx <- length(x); ny <- length(y); n <- nx + ny
    if (nx == 0 || ny == 0) next
    ties <- table(c(x, y))
    var_w <- nx * ny / 12 * (n + 1 - sum(ties^3 - ties) / (n * (n - 1)))
    if (var_w <= 0) next
    w <- 1 / (n + 1)
    t <- t + w * sum(rank(c(x, y))[seq_len(nx)])
    e <- e + w * nx * (n + 1) / 2
    v <- v + w^2 * var_w
  }
  z <- (t - e) / sqrt(v)
  p <- switch(alternative, greater = pnorm(z, lower.tail = FALSE), less = pnorm(z),
              two.sided = min(1, 2 * pnorm(abs(z), lower.tail = FALSE)))
  c(z, p)
}

for (i in seq_len(nrow(expected))) {
  row <- expected[i, ]
  if (row$test == "wilcox") {
    r <- suppressWarnings(wilcox.test(values(row$outcome, row$first_arm), values(row$outcome, row$second_arm),
                                      alternative = row$alternative))
    r_p[row$outcome] <- r$p.value
    report(paste("wilcox.test", row$outcome, row$alternative), unname(r$statistic), r$p.value, row)
  } else if (row$test == "kruskal") {
    r <- kruskal.test(participants[[row$outcome]], factor(participants$arm))
    r_p[row$outcome] <- r$p.value
    report(paste("kruskal.test", row$outcome), unname(r$statistic), r$p.value, row)
  } else if (row$test == "fisher") {
    here <- answers[answers$threat == row$outcome, ]
    marked <- function(arm) sum(here$arm == arm & here$answer == "applicable")
    answered <- function(arm) sum(here$arm == arm)
    a <- marked(row$first_arm); b <- marked(row$second_arm)
    table <- matrix(c(a, answered(row$first_arm) - a, b, answered(row$second_arm) - b), nrow = 2, byrow = TRUE)
    report(paste("fisher.test", row$outcome), NA, fisher.test(table)$p.value, row)
  } else if (row$test == "holm") {
    family <- expected$outcome[expected$test == "holm"]
    adjusted <- p.adjust(r_p[family], method = "holm")
    report(paste("p.adjust holm", row$outcome), NA, unname(adjusted[row$outcome]), row)
  } else if (row$test == "van_elteren") {
    r <- van_elteren(row$outcome, row$first_arm, row$second_arm, row$alternative, row$by_session == 1)
    report(paste("van Elteren", row$outcome, row$alternative), r[1], r[2], row)
  }
}
cat(sprintf("%d mismatch(es)\n", mismatches))
quit(status = if (mismatches > 0) 1 else 0)
