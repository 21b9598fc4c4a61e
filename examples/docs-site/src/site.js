// The site's own script: registering the <gits-sampler> element is one import.
import 'gits-sampler/widget';
