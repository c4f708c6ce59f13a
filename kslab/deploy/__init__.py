"""kslab deploy / undeploy on a cluster: render -> lint -> apply -> watch conditions until Ready, or diagnose."""
