# Reference numbers for tests/evidence/test_meta_metafor_proportions.py.
# Produced with Debian's r-cran-metafor 3.8-1 (R 4.2.2):  Rscript metafor_proportions.R
# Data: dat.pritz1997 (Pritz 1997, proportions of patients with a treatment response; a published
# meta-analysis shipped with metafor/metadat), and the SLE remission rows of the curated dataset.
suppressMessages(library(metafor))
out <- function(label, res) {
  pr <- predict(res)
  cat(sprintf("%s|k=%d|est=%.10f|se=%.10f|ci_lb=%.10f|ci_ub=%.10f|pi_lb=%.10f|pi_ub=%.10f|tau2=%.10f|I2=%.10f|H2=%.10f|QE=%.10f|QEp=%.10g\n",
      label, res$k, res$b[1], res$se, res$ci.lb, res$ci.ub, pr$pi.lb, pr$pi.ub, res$tau2, res$I2, res$H2, res$QE, res$QEp))
}
# dat.pritz1997 is lazy-loaded from metadat, which metafor attaches
d <- dat.pritz1997
cat("pritz_xi=", paste(d$xi, collapse=","), "\n", sep="")
cat("pritz_ni=", paste(d$ni, collapse=","), "\n", sep="")
for (m in c("PLO", "PFT", "PAS", "PR")) {
  for (meth in c("REML", "DL", "ML", "PM", "HE", "SJ")) {
    out(paste("pritz", m, meth, "z", sep="_"), rma(measure=m, xi=xi, ni=ni, data=d, method=meth))
  }
  out(paste("pritz", m, "REML", "knha", sep="_"), rma(measure=m, xi=xi, ni=ni, data=d, method="REML", test="knha"))
  # Paule-Mandel solved to the exact root (uniroot tol 1e-12 instead of metafor's eps^0.25)
  out(paste("pritz", m, "PMexact", "z", sep="_"), rma(measure=m, xi=xi, ni=ni, data=d, method="PM", control=list(tol=1e-12)))
}
# MSC remission rows of the curated SLE dataset, version 1 (Sun 2009 4/4, Wang 2013 23/83, Deng 2017 9/12, Barbado 2018 2/3)
xi <- c(4, 23, 9, 2); ni <- c(4, 83, 12, 3)
for (meth in c("REML", "DL")) out(paste("msc", "PLO", meth, "z", sep="_"), rma(measure="PLO", xi=xi, ni=ni, method=meth))
