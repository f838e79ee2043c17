#Feel free to delete this once you are done reading and no longer require it

'''
This template is free to use for all kinds of usage (personal and commercial)

If this template helps you save some time and effort, you can consider supporting me at https://www.buymeacoffee.com/geeke.app 
However, this is not compulsory at all.

________________________________________

Sample Articles: 


This app currently contains all of the articles from my original website (https://support.geeke.app) as sample articles. Feel free to delete them later

_________________________________________

Github Repository:


To ask any questions, report issues or offer suggestions, you can start a discussion on https://github.com/Divyesh06/Article-Blog-Help-Center-Template-for-Anvil/discussions/
_________________________________________

Note on Icons:


This app uses Bootstrap Icons instead of Font Awesome Icons. You can find the entire icon pack for this website at https://icons.getbootstrap.com/

For example, if you want to add the icon 'house' (https://icons.getbootstrap.com/icons/house/) to a component, set its icon property to fa:house 

To resort back to Font Awesome Icons, remove the line (<link rel="stylesheet" href="https://cdn.jsdelivr.net/gh/divyesh06/Geeke/bootstrap-icons.css">) from
Native Library
'''