# Reference numbers for tests/evidence/test_questions_metafor.py: the subgroup analyses and the
# dose meta-regressions of `lupuscell evidence questions` on the curated evidence, version 2.
# Produced with Debian's r-cran-metafor 3.8-1 (R 4.2.2):  Rscript metafor_questions.R > metafor_questions.out
# The input vectors are the rows lupuscell selects (one row per study, one study per cohort
# group); the test checks that lupuscell selects exactly these before comparing the numbers.
suppressMessages(library(metafor))
num <- function(x) paste(sprintf("%.10g", x), collapse=",")
# REML by Fisher scoring to the exact optimum (change in tau^2 < 1e-10, as lupuscell's questions
# report); where metafor's default step length does not converge (TRM: many zero counts), the
# step is halved, as help(rma) advises (control=stepadj).
reml <- function(...) tryCatch(rma(..., method="REML", control=list(threshold=1e-10, maxiter=1000)),
  error=function(e) rma(..., method="REML", control=list(stepadj=0.5, maxiter=10000, threshold=1e-10)))
fit <- function(label, r) {
  pr <- predict(r)
  i2 <- if (is.null(r$I2)) 0 else r$I2  # k = 1: metafor stores no I2 (lupuscell reports 0)
  # the equal-effects model has no prediction interval: it equals the CI (as lupuscell reports it)
  if (is.null(pr$pi.lb)) { pr$pi.lb <- pr$ci.lb; pr$pi.ub <- pr$ci.ub }
  cat(sprintf("%s|k=%d|est=%.10f|se=%.10f|tau2=%.10f|I2=%.10f|QE=%.10f|pi_lb=%.10f|pi_ub=%.10f\n",
      label, r$k, r$b[1], r$se[1], r$tau2, i2, r$QE, pr$pi.lb[1], pr$pi.ub[1]))
}
subgroups <- function(key, xi, ni, g) {
  cat(key, "_xi=", num(xi), "\n", key, "_ni=", num(ni), "\n", key, "_group=", paste(g, collapse=","), "\n", sep="")
  fit(paste(key, "overall", sep="|"), reml(measure="PLO", xi=xi, ni=ni))
  est <- c(); se <- c(); lev <- sort(unique(g))
  for (lv in lev) {
    s <- g == lv
    r <- if (sum(s) > 1) reml(measure="PLO", xi=xi[s], ni=ni[s]) else rma(measure="PLO", xi=xi[s], ni=ni[s], method="EE")
    fit(paste(key, "group", lv, sep="|"), r)
    est <- c(est, r$b[1]); se <- c(se, r$se)
  }
  # separate tau^2: test for subgroup differences = QM of a fixed-effect meta-regression of the subgroup estimates
  qb <- rma(yi=est, sei=se, mods=~factor(lev), method="FE")
  cat(sprintf("%s|between|QM=%.10f|df=%d|p=%.10g\n", key, qb$QM, qb$m, qb$QMp))
  # common tau^2: metafor's mixed-effects model with the subgroup as moderator
  cm <- reml(measure="PLO", xi=xi, ni=ni, mods=model.matrix(~factor(g))[, -1, drop=FALSE])
  cat(sprintf("%s|common|QM=%.10f|p=%.10g|tau2=%.10f|QE=%.10f\n", key, cm$QM, cm$QMp, cm$tau2, cm$QE))
}
H <- "Autologous HSCT"; M <- "MSC"; C <- "CAR-T"
subgroups("remission", c(7,33,6,23,8,5,21,2,18,5,8,12,12), c(7,50,6,83,20,12,24,3,22,5,8,13,15),
          c(H,H,H,M,M,M,H,M,H,C,C,C,C))
subgroups("trm", c(7,1,1,0,0,1,0), c(53,50,17,40,30,22,15), c(H,H,H,M,H,H,C))
U <- "Umbilical cord"; N <- "Source not stated"; A <- "Adipose tissue"
subgroups("cellsource", c(8,5,2,5,3,45), c(20,12,3,6,9,92), c(U,U,N,U,A,U))
dose <- function(key, xi, ni, d) {
  cat(key, "_xi=", num(xi), "\n", key, "_ni=", num(ni), "\n", key, "_dose=", num(d), "\n", sep="")
  r <- reml(measure="PLO", xi=xi, ni=ni, mods=cbind(dose=d))
  cat(sprintf("%s|metareg|b0=%.10f|b1=%.10f|se1=%.10f|ci1_lb=%.10f|ci1_ub=%.10f|tau2=%.10f|QM=%.10f|QE=%.10f|R2=%.10f\n",
      key, r$b[1], r$b[2], r$se[2], r$ci.lb[2], r$ci.ub[2], r$tau2, r$QM, r$QE, r$R2))
}
dose("dose_msc", c(23,5,3), c(83,6,9), c(1,1,2))
dose("dose_car_t", c(5,12,3,5), c(5,13,3,5), c(1,3,1,3))
